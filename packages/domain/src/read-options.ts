/** Inside a transaction, `forUpdate` locks the rows read until the transaction ends. */
export interface ReadOptions {
  forUpdate?: boolean
  /** Locks the rows read against changes (FOR SHARE) while other readers may share the lock. */
  forShare?: boolean
}
