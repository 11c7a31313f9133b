// a generated corpus of scope tokens for the differential tests against the reference

type Param = readonly [key: string, value: string];

/** how a value is written into a token. */
type Encoder = (value: string) => string;

const ENCODERS: Record<string, Encoder> = {
	// as is: `#` bare, `:` bare
	plain: (value) => value,
	// what most people write: `#` as %23
	hash: (value) => value.replaceAll('#', '%23'),
	// `:` escaped too, with lower-case hex for `#`
	colon: (value) => value.replaceAll(':', '%3A').replaceAll('#', '%23'),
	// fully escaped
	full: (value) => encodeURIComponent(value),
};

const write = (
	resource: string,
	positional: string | undefined,
	params: readonly Param[],
	encode: Encoder,
) => {
	let token = resource;
	if (positional !== undefined) token += `:${encode(positional)}`;
	if (params.length > 0) token += `?${params.map(([key, value]) => `${key}=${encode(value)}`).join('&')}`;
	return token;
};

/**
 * the forms a list parameter can take: all named, first positional and the rest named (valid only
 * with one value), and for a single value positional.
 */
const listForms = (
	resource: string,
	key: string,
	values: readonly string[],
	rest: readonly Param[],
	encode: Encoder,
): string[] => {
	const named = values.map((value): Param => [key, value]);
	const forms = [write(resource, undefined, [...named, ...rest], encode)];
	// named params after the others, to show order does not matter
	forms.push(write(resource, undefined, [...rest, ...named], encode));
	if (values.length === 1) forms.push(write(resource, values[0], rest, encode));
	else forms.push(write(resource, values[0], [...named.slice(1), ...rest], encode));
	return forms;
};

const NSID_LISTS: readonly (readonly string[])[] = [
	['app.bsky.feed.post'],
	['com.example.fooBar'],
	['io.x-y.z9'],
	['app.bsky.feed.post', 'app.bsky.feed.like'],
	['app.bsky.feed.like', 'app.bsky.feed.post'],
	['app.bsky.feed.post', 'app.bsky.feed.post'],
	['*'],
	['*', 'app.bsky.feed.post'],
	['com.example.*'],
	['com.example'],
	['app.bsky.feed.post', '1bad.example.foo'],
	['com.example.foo-bar'],
];

const REPO_ACTION_LISTS: readonly (readonly string[] | undefined)[] = [
	undefined,
	['create'],
	['update', 'create'],
	['create', 'update', 'delete'],
	['delete', 'delete'],
	['read'],
];

const AUDS: readonly string[] = [
	'did:web:api.bsky.app#bsky_appview',
	'did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto_labeler',
	'did:web:localhost%3A2584#svc',
	'*',
	'did:web:api.bsky.app',
	'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#x',
	'did:web:api.bsky.app:path#svc',
	'did:web:api.bsky.app#svc#other',
];

const RPC_LXM_LISTS: readonly (readonly string[])[] = [
	['app.bsky.feed.getFeed'],
	['chat.bsky.convo.getLog', 'app.bsky.actor.getProfile'],
	['app.bsky.feed.getFeed', 'app.bsky.feed.getFeed'],
	['*'],
	['*', 'app.bsky.feed.getFeed'],
	['app.bsky.*'],
];

const ACCEPT_LISTS: readonly (readonly string[])[] = [
	['image/*'],
	['image/png'],
	['*/*'],
	['image/png', 'image/*'],
	['video/*', 'image/*'],
	['*/*', 'image/png'],
	['IMAGE/PNG'],
	['image/png', 'IMAGE/PNG'],
	['Image/*'],
	['IMAGE/PNG', 'image/*'],
	['Image/png', 'Image/*'],
	['text/html', 'text/html'],
	['image/svg+xml'],
	['image/png', 'image/svg+xml'],
	['image'],
	['*/png'],
	['image/p*g'],
	['a/b/c'],
];

const ACCOUNT_ACTION_LISTS: readonly (readonly string[] | undefined)[] = [
	undefined,
	['read'],
	['manage'],
	['read', 'manage'],
	['manage', 'read'],
	['delete'],
];

/** generated tokens: every resource, list sizes, wildcards, defaults, forms and encodings. */
export const generateTokens = (): string[] => {
	const tokens = new Set<string>();
	const add = (list: readonly string[]) => {
		for (const token of list) tokens.add(token);
	};

	for (const encode of [ENCODERS.plain!, ENCODERS.full!]) {
		for (const collection of NSID_LISTS) {
			for (const action of REPO_ACTION_LISTS) {
				const rest = (action ?? []).map((value): Param => ['action', value]);
				add(listForms('repo', 'collection', collection, rest, encode));
			}
		}
	}

	for (const encoder of Object.values(ENCODERS)) {
		for (const lxm of RPC_LXM_LISTS) {
			for (const aud of AUDS) {
				add(listForms('rpc', 'lxm', lxm, [['aud', aud]], encoder));
			}
		}
		for (const aud of [undefined, ...AUDS]) {
			for (const nsid of ['app.bsky.authFullApp', 'chat.bsky.authFullChatClient', 'not-an-nsid']) {
				const rest: Param[] = aud === undefined ? [] : [['aud', aud]];
				add(listForms('include', 'nsid', [nsid], rest, encoder));
			}
		}
	}

	for (const encode of [ENCODERS.plain!, ENCODERS.full!]) {
		for (const accept of ACCEPT_LISTS) {
			add(listForms('blob', 'accept', accept, [], encode));
		}
		for (const attr of ['email', 'repo', 'status', 'phone']) {
			for (const action of ACCOUNT_ACTION_LISTS) {
				const rest = (action ?? []).map((value): Param => ['action', value]);
				add(listForms('account', 'attr', [attr], rest, encode));
			}
		}
		for (const attr of ['handle', '*', 'did']) {
			add(listForms('identity', 'attr', [attr], [], encode));
			add([`identity:${encode(attr)}?`]);
		}
	}

	add(['atproto', 'transition:generic', 'transition:chat.bsky', 'transition:email']);
	return [...tokens];
};

/** hand-written tokens that are broken, or valid only in an odd way. */
export const MALFORMED_TOKENS: readonly string[] = [
	'',
	'repo',
	'repo:',
	'repo?',
	'repo:?',
	'repo:&',
	'repo?collection=',
	'repo:app.bsky.feed.post?collection=app.bsky.feed.like',
	'repo:a.b.c?collection=a.b.c',
	'repo:a?collection=b',
	'repo:app.bsky.feed.post?action=',
	'repo:app.bsky.feed.post?action=create&action=',
	'repo:app.bsky.feed.post?action=CREATE',
	'repo:app.bsky.feed.post?action',
	'repo:app.bsky.feed.post?&',
	'repo:app.bsky.feed.post?action=create&',
	'repo:app.bsky.feed.post?&action=create',
	'repo:app.bsky.feed.post??action=create',
	'repo:app.bsky.feed.post?=create',
	'repo:app.bsky.feed.post?actions=create',
	'repo:app.bsky.feed.post?%61ction=create',
	'repo:app.bsky.feed.post?action=create=update',
	'repo:app.bsky.feed.post#create',
	'repo:%E0',
	'repo:%zz',
	'repo:app.bsky.feed.post%',
	'repo:app%2Ebsky%2Efeed%2Epost',
	'repo:app.bsky.feed.post ',
	'repo: app.bsky.feed.post',
	'Repo:app.bsky.feed.post',
	'repo:app.bsky.feed.*',
	'repo:*?action=delete',
	'repo:*?action=create&action=update&action=delete',
	'rpc',
	'rpc:',
	'rpc?lxm=a',
	'rpc?lxm=app.bsky.feed.getFeed',
	'rpc:app.bsky.feed.getFeed',
	'rpc:*?aud=*',
	'rpc?lxm=*&aud=*',
	'rpc:app.bsky.feed.getFeed?aud=*&aud=*',
	'rpc:app.bsky.feed.getFeed?aud=',
	'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23',
	'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%2523bsky_appview',
	'rpc:app.bsky.feed.getFeed?aud=did:web:localhost:2584%23svc',
	'rpc:app.bsky.feed.getFeed?aud=did:web:localhost%253A2584%23svc',
	'rpc:app.bsky.feed.getFeed?aud=did:web:example.com%253A443%23svc',
	'rpc:app.bsky.feed.getFeed?aud=did:plc:ewvi7nxzyoun6zhxrhs64oi%23svc',
	'rpc:app.bsky.feed.getFeed?aud=did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ%23svc',
	'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23svc+1',
	'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23svc%2B1',
	'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23svc%2541',
	"rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23a!b~c(d)e'f",
	'rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23s%26t%3Du',
	'rpc:app.bsky.feed.getFeed?aud=did:web:exa%20mple.com%23svc',
	'rpc:app.bsky.feed.getFeed?aud=did:web:%23svc',
	'rpc:app.bsky.feed.getFeed?lxm=app.bsky.feed.getFeed&aud=*',
	'blob',
	'blob:',
	'blob:image',
	'blob:image/',
	'blob:/png',
	'blob:*',
	'blob:*/*?accept=image/png',
	'blob:image/png;charset=x',
	'blob:a*/*',
	'blob:**/*',
	'blob:ima*ge/*',
	'blob:text/ht*',
	'blob:image/**',
	'blob:image/svg+xml',
	'blob?accept=image/svg+xml',
	'blob?accept=image/svg%2Bxml',
	'blob?accept=image/png&accept=image/svg%2Bxml',
	'blob:image/x%25y',
	'blob:image/x%2525y',
	'blob:image/pngé',
	'blob:image/png%C3%A9',
	'blob:image/png%0A',
	'blob:image/png%20',
	'account',
	'account:',
	'account:email?action=delete',
	'account:email?action=read&action=read',
	'account:email?attr=email',
	'account?attr=email&attr=repo',
	'account:*',
	'account:EMAIL',
	'account:email?action=manage&foo=bar',
	'identity',
	'identity:',
	'identity:foo',
	'identity:handle?action=manage',
	'identity?attr=handle&attr=*',
	'identity:*?',
	'include',
	'include:',
	'include:not-an-nsid',
	'include:app.bsky.authFullApp?aud=*',
	'include:app.bsky.authFullApp?aud=did:web:api.bsky.app',
	'include:app.bsky.authFullApp?nsid=app.bsky.authFullApp',
	'include?nsid=app.bsky.authFullApp&nsid=chat.bsky.authFullChatClient',
	'include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23a&aud=did:web:api.bsky.app%23b',
	'atproto:',
	'atproto?',
	'atproto:x',
	'ATPROTO',
	'transition',
	'transition:',
	'transition:generic?x=y',
	'transition:chat',
	'transition:Generic',
	'openid',
	'profile',
	'email',
	'resource',
	'resource:',
	'resource:?',
	'resource:&',
	'resource?',
	'resource:positional?key=val',
	'resource:positional&thing?key=val',
	'resource:x?k=québec',
	'service:did:web:com.example#type?key=val',
	'emoji:☺️',
	':repo',
	'?repo',
	'repo\tapp.bsky.feed.post',
];
