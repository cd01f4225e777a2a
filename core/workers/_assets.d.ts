// Installer templates imported as text (embedded by bun build --compile).
declare module "*.sh" {
  const text: string
  export default text
}
declare module "*.ps1" {
  const text: string
  export default text
}
declare module "*.service" {
  const text: string
  export default text
}
declare module "*.plist" {
  const text: string
  export default text
}
