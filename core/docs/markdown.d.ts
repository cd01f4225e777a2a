// The guides under docs/ are embedded in the binary as text (core/docs/guides.ts).
declare module "*.md" {
  const text: string
  export default text
}
declare module "*.ttf" {
  const path: string
  export default path
}
