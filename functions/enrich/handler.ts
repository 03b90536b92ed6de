// Placeholder until the functions are written; replaced by functions/enrich/handler.ts proper.
export const handler = async (): Promise<never> => {
  throw new Error('enrich handler is not written yet');
};
