/**
 * The table of `samsa` commands, in the order `samsa --help` lists them.
 * Adding a command: write bin/commands/<name>.ts exporting a CommandModule,
 * then add one line here.
 */
import type { CommandModule } from '../command.js';
import { broker } from './broker.js';
import { cluster } from './cluster.js';
import { consume } from './consume.js';
import { demo } from './demo.js';
import { dumpLog } from './dump-log.js';
import { groups } from './groups.js';
import { log } from './log.js';
import { offsets } from './offsets.js';
import { produce } from './produce.js';
import { topics } from './topics.js';

export const COMMANDS: readonly CommandModule[] = [
  dumpLog,
  log,
  demo,
  broker,
  cluster,
  topics,
  produce,
  consume,
  offsets,
  groups,
  // broker, topics, produce, consume ... plug in here.
];
