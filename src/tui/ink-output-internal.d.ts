// The name the bundle build (package.json "build") aliases to Ink's own output
// module; see loadInkOutput in ink-fast-output.ts. Unbundled, it does not resolve.
declare module "ink-output-internal" {
  const Output: unknown;
  export default Output;
}
