// the libraries the lifecycle tests run: the core (WebCrypto) assembled from its packages, and the facade.
import * as core from '@atcute/oauth-client';
import * as keys from '@atcute/oauth-keys';
import * as encrypted from '@atcute/oauth-store-encrypted';
import { MemoryStore } from '@atcute/oauth-store-memory';

export const coreLifecycleLib = { ...core, ...keys, ...encrypted, MemoryStore };
