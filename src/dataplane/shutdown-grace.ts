/** How long in-flight calls may take to finish on shutdown or a listener restart, ms. */
export const SHUTDOWN_GRACE_MS = 5_000;
