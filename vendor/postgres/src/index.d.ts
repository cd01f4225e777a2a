// The vendored driver's API is the npm package's, unchanged: its types are the package's (README.md).
import postgres from "postgres"
export default postgres
