import { packageConfig } from '../../tsdown.package.ts';

// node: it loads better-sqlite3 (a peer, kept external) through node:module's createRequire
export default packageConfig('node');
