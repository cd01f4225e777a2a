// core/compiled — whether this code runs inside a `bun build --compile` binary, whose modules are served
// from its embedded file system: /$bunfs/ on Linux and macOS, B:/~BUN/ on Windows. Code that finds its
// assets differently in the binary and in the sources asks here, so every platform is recognised alike.
export const isCompiled = import.meta.path.startsWith("/$bunfs/") || import.meta.path.startsWith("B:/~BUN/")
