// Type of the client script imported as text by core/http/routes/assets.ts.
declare const text: string
export default text
