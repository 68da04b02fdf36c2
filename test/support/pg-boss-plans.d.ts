// pg-boss 10's SQL builders (src/plans.js, untyped): the tests plan pg-boss's own statements.
declare module "pg-boss/src/plans.js" {
  const plans: {
    /** The fetch statement; its parameters are ($1 queue name, $2 batch size). */
    fetchNextJob(schema: string): (options: { includeMetadata?: boolean; priority?: boolean }) => string;
  };
  export default plans;
}
