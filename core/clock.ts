// core/clock — injectable time, so expiry and hysteresis are tested in milliseconds.
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now() {
    return this.t
  }
  advance(ms: number) {
    this.t += ms
  }
  set(ms: number) {
    this.t = ms
  }
}
