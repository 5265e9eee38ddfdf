// Entry point of the `xgate` command (bin/xgate.js loads this through tsx).
import { buildProgram } from './program.ts';

await buildProgram().parseAsync(process.argv);
