// `npm start`: the build check (scripts/build-if-changed.mjs), then the compiled server's `start`
// with the arguments given after `npm start --`, in one Node process rather than two.
const nodeEnv = process.env.NODE_ENV;
await import("./build-if-changed.mjs");
// The build forces production mode for what it builds; the server runs in the caller's environment.
if (nodeEnv === undefined) delete process.env.NODE_ENV;
else process.env.NODE_ENV = nodeEnv;
process.argv.splice(2, 0, "start");
await import("../dist/server/main.mjs");
