// Module declarations for files imported as text or as embedded file paths (bun build --compile).
declare module "*.sql" {
  const text: string
  export default text
}
declare module "*.wasm" {
  const path: string
  export default path
}
declare module "*.data" {
  const path: string
  export default path
}
declare module "*.gz" {
  const path: string
  export default path
}
declare module "*.pack" {
  const path: string
  export default path
}
