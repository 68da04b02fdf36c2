/** A map that forgets its oldest entry past `max`, with the get/set/clear mustache's cache expects. */
export function boundedCache<T = unknown>(max: number) {
  const entries = new Map<string, T>();
  return {
    get: (key: string) => entries.get(key),
    set(key: string, value: T) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
    clear: () => entries.clear(),
  };
}
