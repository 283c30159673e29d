/** A function telling whether a body's bytes are JSON that `schema` accepts. */
export function makeCheck(schema: unknown): (bytes: Uint8Array) => boolean;
