#!/usr/bin/env node
// The `updraft` command. TypeScript (ours and the DAG files') runs through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
