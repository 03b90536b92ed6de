// Placeholder until the functions are written; replaced by functions/ingest/handler.ts proper.
export const handler = async (): Promise<never> => {
  throw new Error('ingest handler is not written yet');
};
