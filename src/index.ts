/**
 * samsa: the package's main entry point. The log is also importable on its
 * own as 'samsa/log'; the broker and the client will be exported from here.
 */
export * from './log/index.js';
