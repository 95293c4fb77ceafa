// The same task for Piscina, which runs a module's default export as the handler itself.
import init from './task.ts';

export default init();
