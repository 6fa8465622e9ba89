/** replay / test: being written. */
export const replay = (_args: string[]): number => 3;
export const test = (_args: string[]): number => 3;
