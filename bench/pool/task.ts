// The benchmark's task module: the input is how many µs to spin (0: an empty task).
export type SpinHandler = (spinUs: number) => number;

export default function init(): SpinHandler {
  return (spinUs) => {
    if (spinUs > 0) {
      const end = performance.now() + spinUs / 1000;
      while (performance.now() < end);
    }
    return spinUs;
  };
}
