import os from "node:os";
import { now } from "./clock.ts";
import type { World } from "./world.ts";

/**
 * CPU used during a measurement. `bench` and `world` are shares of one core (1.0 = one core busy
 * throughout; Node runs JavaScript on one core, so a side near 1.0 was the bottleneck). `machine` is
 * the share of all cores, which also counts PostgreSQL and any other process.
 */
export interface CpuShare {
  bench: number;
  world: number;
  machine: number;
}

export interface Measured<T> {
  value: T;
  wallMs: number;
  cpu: CpuShare;
}

const selfCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Busy and total milliseconds summed over every core since boot. */
const machineTimes = () => {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
};

/** The share of all cores busy over `ms` while the bench itself idles: other people's work on the machine. */
export async function backgroundLoad(ms = 1_000): Promise<number> {
  const before = machineTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineTimes();
  return (after.busy - before.busy) / (after.total - before.total);
}

/** Runs `work` and reports the CPU each side used meanwhile, which says what a figure really measures. */
export async function measured<T>(world: World, work: () => Promise<T>): Promise<Measured<T>> {
  const worldBefore = await world.call("usage", {});
  const selfBefore = selfCpuMs();
  const machineBefore = machineTimes();
  const started = now();
  const value = await work();
  const wallMs = now() - started;
  const machineAfter = machineTimes();
  const selfAfter = selfCpuMs();
  const worldAfter = await world.call("usage", {});
  return {
    value,
    wallMs,
    cpu: {
      bench: (selfAfter - selfBefore) / wallMs,
      world: (worldAfter.cpuMs - worldBefore.cpuMs) / wallMs,
      machine: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
    },
  };
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

export const cpuHeaders = ["CPU sender", "CPU world", `CPU all ${os.cpus().length}`];

export function formatCpu(cpu: CpuShare): string[] {
  return [percent(cpu.bench), percent(cpu.world), percent(cpu.machine)];
}
