/** The project's root folder (where build/, runtime-c/ and .vigorc-cache/ are), from this file's place. */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
