/**
 * Bull Board: the operators' view of the queues. It lists exactly the queues of
 * the registry in `src/jobs/queues.ts`, so a new queue shows up here by being
 * declared there.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { QUEUE_NAMES, type Queues } from './src/jobs/queues.js';

export const bullBoardConfig = {
  basePath: '/admin/queues',
  boardTitle: 'Order backend queues',
} as const;

/** A Hono sub-app serving the board for `queues`; the caller mounts it behind an admin guard. */
export function createQueueBoard(queues: Queues) {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(bullBoardConfig.basePath);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(queues[name])),
    serverAdapter,
    options: { uiConfig: { boardTitle: bullBoardConfig.boardTitle } },
  });
  return serverAdapter.registerPlugin();
}
