/**
 * A map that forgets its oldest entries past `max` of them, or past `maxWeight` in all when a `weigh`
 * is given, with the get/set/clear mustache's cache expects. Setting a key again makes it the newest,
 * so setting on every use keeps the least recently used first to go.
 */
export function boundedCache<T = unknown>(
  max: number,
  limit?: { maxWeight: number; weigh: (value: T) => number },
) {
  const entries = new Map<string, T>();
  let weight = 0;
  const forget = (key: string) => {
    const value = entries.get(key);
    if (value === undefined) return;
    entries.delete(key);
    if (limit) weight -= limit.weigh(value);
  };
  return {
    get: (key: string) => entries.get(key),
    set(key: string, value: T) {
      forget(key);
      entries.set(key, value);
      if (limit) weight += limit.weigh(value);
      while (entries.size > max || (limit && weight > limit.maxWeight && entries.size > 1)) {
        forget(entries.keys().next().value!);
      }
    },
    delete: forget,
    clear: () => {
      entries.clear();
      weight = 0;
    },
  };
}
