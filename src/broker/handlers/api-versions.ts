/** ApiVersions: every API this broker handles, with its version range (from the protocol's table). */
import { supportedApis } from '../../protocol/index.js';
import type { Handler } from './context.js';

export const apiVersions: Handler<'ApiVersions'> = () => ({ errorCode: 0, apis: supportedApis() });
