/**
 * the request option that carries a request's abort signal to its agent's `createConnection` (the
 * proxy tunnel): node:http hands that function the request's options, all but `signal`.
 */
export const CONNECT_SIGNAL = 'atcuteConnectSignal';
