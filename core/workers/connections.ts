// core/workers/connections — what the rest of the pool may do with the worker hub's live sockets.
export interface WorkerConnections {
  /** Close every live connection of a worker token; returns how many were closed. */
  closeToken(tokenId: number): number
}
