/** mulberry32: a small seeded PRNG for property tests, so a failing random case reproduces from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole numbers in [0, max) from `seededRandom(seed)`. */
export function seededInt(seed: number): (max: number) => number {
  const next = seededRandom(seed);
  return (max) => Math.floor(next() * max);
}
