/**
 * With payload encryption on, failure messages and stack traces travel as an encoded payload
 * (so the codec encrypts them) instead of in clear text. Loaded by path (`failureConverterPath`)
 * because the workflow sandbox builds its own converter.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
