/** The voices every target language offers (spec 002 `voice`, spec 001 voice types). */
export type VoiceName = 'male' | 'female';
