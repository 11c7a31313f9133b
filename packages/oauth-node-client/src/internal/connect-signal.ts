/**
 * the request option that carries a request's connection signal to its agent's
 * `createConnection` (node:http hands that function the request's options, all but `signal`). the
 * transport aborts it when it lets go of a request that has no socket yet (an abort, a throw while
 * it was set up): a proxy's tunnel still opening is given up, a socket just made is closed.
 */
export const CONNECT_SIGNAL = 'atcuteConnectSignal';
