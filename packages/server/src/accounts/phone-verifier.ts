import type { Logger } from "pino";

/**
 * Delivers a verification code to a phone number. The default writes the
 * code to the server log for development; a deployment plugs in an SMS
 * provider by implementing this interface (docs/operations.md shows how).
 */
export interface PhoneVerifier {
  /** Sends `code` to `phone` (E.164). Throws if the provider refused it. */
  send(request: { verificationId: string; phone: string; code: string }): Promise<void>;
}

/** Logs the code with its verification id; never the number (no PII in logs). */
export class ConsoleVerifier implements PhoneVerifier {
  constructor(private readonly logger: Logger) {}

  async send(request: { verificationId: string; code: string }): Promise<void> {
    this.logger.info(
      { verificationId: request.verificationId, code: request.code },
      "phone verification code (console verifier: configure an SMS provider in production)",
    );
  }
}
