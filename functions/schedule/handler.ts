// Placeholder until the functions are written; replaced by functions/schedule/handler.ts proper.
export const handler = async (): Promise<never> => {
  throw new Error('schedule handler is not written yet');
};
