/** The API's wire types, written once beside the API's schemas (functions/api/wire.ts). */
export type * from '../../../functions/api/wire.ts';
