/** A margin or reward as the review shows it: signed, with a true minus sign, three decimals. */
export const signed = (n: number): string => `${n > 0 ? '+' : n < 0 ? '−' : ''}${Math.abs(n).toFixed(3)}`;
