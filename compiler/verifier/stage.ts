/** One stage of `vigorc verify` ("spec": the IR against the spec; "c": the generated C with Frama-C). */
export interface StageFailure {
  /** What could not be proven, for a human. */
  message: string;
  /** Where: the TypeScript source location, and for C goals the C location too. */
  file?: string;
  line?: number;
  cLocation?: string;
}

export interface StageResult {
  name: string;
  proven: boolean;
  goals: { proven: number; total: number };
  seconds: number;
  failures: StageFailure[];
}
