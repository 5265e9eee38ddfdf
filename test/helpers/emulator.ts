import { createEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.ts';

/** An emulator listening on 127.0.0.1 (port 0). */
export interface TestEmulator {
  url: string;
  emulator: Emulator;
  control: Emulator['control'];
  stop(): Promise<void>;
}

/** Starts the X emulator in-process on 127.0.0.1, any free port. Stop it in `afterAll`. */
export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await createEmulator(options);
  const url = await emulator.listen({ host: '127.0.0.1', port: 0 });
  return { url, emulator, control: emulator.control, stop: () => emulator.close() };
}
