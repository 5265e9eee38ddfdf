// Worker-thread entry of the text pool (src/posts/text-workers.ts). Plain JavaScript because a worker starts
// without the parent's TypeScript loader: it registers tsx itself, then loads the jobs.
import { register } from 'tsx/esm/api';

register();
await import('./text-worker-main.ts');
