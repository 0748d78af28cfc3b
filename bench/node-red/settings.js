// Node-RED settings for the benchmark: loopback only, no editor, no calls home.
// hub_bench copies this into a fresh user directory and replaces __UI_PORT__.
module.exports = {
  uiHost: "127.0.0.1",
  uiPort: __UI_PORT__,
  flowFile: "flows.json",
  credentialSecret: false,
  httpAdminRoot: false,
  httpNodeRoot: false,
  diagnostics: {enabled: false, ui: false},
  telemetry: {enabled: false},
  runtimeState: {enabled: false, ui: false},
  externalModules: {autoInstall: false, palette: {allowInstall: false}, modules: {allowInstall: false}},
  editorTheme: {tours: false, palette: {catalogues: []}},
  logging: {console: {level: "warn", metrics: false, audit: false}},
  functionGlobalContext: {},
};
