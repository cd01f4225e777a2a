// Client files embedded in the binary as text (see core/http/routes/assets.ts).
declare module "htmx.org/dist/htmx.min.js" {
  const text: string
  export default text
}
declare module "htmx.org/dist/ext/sse.js" {
  const text: string
  export default text
}
declare module "*.css" {
  const text: string
  export default text
}
