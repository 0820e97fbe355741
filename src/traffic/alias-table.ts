/**
 * Sampling from a fixed discrete distribution in constant time (Vose's alias method). Every
 * payment draws a scenario, a region, a channel and a method; a cumulative array would cost a
 * search per draw, the alias table costs one multiply and one comparison.
 */
export class AliasTable {
  readonly size: number;
  private readonly probability: Float64Array;
  private readonly alias: Uint32Array;

  /** `weights` are non-negative finite numbers with a positive sum. */
  constructor(weights: readonly number[]) {
    const size = weights.length;
    let sum = 0;
    for (const weight of weights) {
      if (!Number.isFinite(weight) || weight < 0) throw new RangeError(`bad weight ${weight}`);
      sum += weight;
    }
    if (size === 0 || sum <= 0)
      throw new RangeError("an alias table needs a positive total weight");
    this.size = size;
    this.probability = new Float64Array(size);
    this.alias = new Uint32Array(size);
    const scaled = weights.map((weight) => (weight * size) / sum);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((value, index) => {
      (value < 1 ? small : large).push(index);
    });
    while (small.length > 0 && large.length > 0) {
      const less = small.pop()!;
      const more = large.pop()!;
      this.probability[less] = scaled[less]!;
      this.alias[less] = more;
      scaled[more] = scaled[more]! + scaled[less]! - 1;
      (scaled[more]! < 1 ? small : large).push(more);
    }
    // Whatever is left is 1 up to rounding: those columns never use their alias.
    for (const index of [...small, ...large]) {
      this.probability[index] = 1;
      this.alias[index] = index;
    }
  }

  /**
   * The index drawn by `uniform` in [0, 1): its integer part (scaled by the size) picks a column
   * and its fraction decides between the column and its alias, so one draw suffices.
   */
  sample(uniform: number): number {
    const scaled = uniform * this.size;
    const column = scaled | 0;
    return scaled - column < this.probability[column]! ? column : this.alias[column]!;
  }
}
