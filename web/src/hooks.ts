import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.ts';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` when `deps` change; keeps the last data while reloading (no flicker), and the error if any. */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loader = useRef(load);
  loader.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloads on the caller's deps and on reload()
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loader
      .current(controller.signal)
      .then((value) => {
        setData(value);
        setError(null);
      })
      .catch((caught: unknown) => {
        if ((caught as Error).name === 'AbortError') return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'unexpected', String(caught)));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data, error, loading, reload };
}

/** A value kept in localStorage under `key` (drafts survive navigating away and reloads). */
export function useStoredState<T>(key: string, initial: () => T): [T, (value: T | ((old: T) => T)) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const stored = window.localStorage.getItem(key);
      return stored === null ? initial() : (JSON.parse(stored) as T);
    } catch {
      return initial();
    }
  });
  useEffect(() => {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // A full or disabled storage only loses the draft's persistence, not the draft.
    }
  }, [key, value]);
  return [value, setValue];
}
