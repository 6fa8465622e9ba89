/**
 * The command verify starts its helper processes with (`vigorc verify-helper`, not for users). In a
 * module of its own so that the CLI can route it without loading the verifier.
 */
export const HELPER_COMMAND = "verify-helper";
