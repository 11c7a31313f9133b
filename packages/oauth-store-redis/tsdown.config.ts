import { packageConfig } from '../../tsdown.package.ts';

// node: ioredis (a peer, kept external) runs on node:net
export default packageConfig('node');
