/**
 * One payment as the simulation's fast path holds it: the fields the evaluators and the report
 * read, checked (`CheckedPayment`), and where its identities are. An identity is a range of a
 * text — the line it was read from, or the id string itself — so a line's identities cost no
 * string unless an identity is seen for the first time (`IdentityTotals.addRange`). Reused for
 * every payment.
 */
import { CheckedPayment } from "../evaluator/fast-payment-check.ts";

export class SimulatedPayment {
  readonly checked = new CheckedPayment();
  userText = "";
  userStart = 0;
  userEnd = 0;
  /** `deviceStart` is -1 when the payment has no device id. */
  deviceText = "";
  deviceStart = -1;
  deviceEnd = -1;
  /** `cardStart` is -1 when the payment has no card fingerprint. */
  cardText = "";
  cardStart = -1;
  cardEnd = -1;

  /** The identities of a payment given as an object that `fastPaymentCheck` accepted. */
  identitiesOf(userId: string, deviceId: string | undefined, cardFingerprint: string | undefined) {
    this.userText = userId;
    this.userStart = 0;
    this.userEnd = userId.length;
    if (deviceId === undefined) this.deviceStart = this.deviceEnd = -1;
    else {
      this.deviceText = deviceId;
      this.deviceStart = 0;
      this.deviceEnd = deviceId.length;
    }
    if (cardFingerprint === undefined) this.cardStart = this.cardEnd = -1;
    else {
      this.cardText = cardFingerprint;
      this.cardStart = 0;
      this.cardEnd = cardFingerprint.length;
    }
  }
}
