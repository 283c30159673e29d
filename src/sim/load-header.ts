/**
 * The header that marks the built-in load generator's calls; its value is the mesh's
 * token. A file of its own: the gateway reads it without loading the generator (or undici).
 */
export const LOAD_HEADER = 'x-meshdev-load';
