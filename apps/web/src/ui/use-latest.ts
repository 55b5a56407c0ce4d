import { useCallback, useRef } from "react";

/**
 * For loads that may overlap (an event and a click both reload): `begin()`
 * marks a new load and gives a check that is true only while no newer load
 * began, so an older answer arriving last never overwrites a newer one.
 */
export function useLatest(): () => () => boolean {
  const latest = useRef(0);
  return useCallback(() => {
    const mine = ++latest.current;
    return () => mine === latest.current;
  }, []);
}
