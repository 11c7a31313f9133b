import { packageConfig } from '../../tsdown.package.ts';

// node: pg (a peer, kept external) runs on node:net
export default packageConfig('node');
