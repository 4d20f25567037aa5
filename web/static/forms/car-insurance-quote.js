// The car-insurance quote the demo website asks for, described once: the
// demo builds its form from it and the console uses it to show every answer
// with its label, in step order. Answers are saved as data.<step>.<key>.

const thisYear = new Date().getFullYear();

export default {
  journeyType: 'car-insurance-quote',
  title: 'Car insurance quote',
  steps: [
    {
      id: 'vehicle',
      title: 'Vehicle',
      intro: 'Tell us about the car you want to insure.',
      fields: [
        { key: 'plate', label: 'Registration plate', type: 'text', required: true, autocomplete: 'off', upper: true, hint: 'As on the number plate, e.g. AB-123-C' },
        { key: 'make', label: 'Make', type: 'text', required: true, hint: 'e.g. Volvo' },
        { key: 'model', label: 'Model', type: 'text' },
        { key: 'year', label: 'Year of first registration', type: 'number', min: 1950, max: thisYear },
      ],
    },
    {
      id: 'driver',
      title: 'Driver',
      intro: 'Who drives the car most of the time?',
      fields: [
        { key: 'name', label: 'Full name', type: 'text', required: true, autocomplete: 'name' },
        { key: 'birthYear', label: 'Year of birth', type: 'number', required: true, min: thisYear - 100, max: thisYear - 17 },
        { key: 'claimsFree', label: 'Years without a claim', type: 'number', min: 0, max: 60 },
      ],
    },
    {
      id: 'cover',
      title: 'Cover',
      intro: 'Choose how much cover you want.',
      fields: [
        {
          key: 'level', label: 'Level of cover', type: 'select', required: true,
          options: [
            { value: 'third-party', label: 'Third party only' },
            { value: 'third-party-fire-theft', label: 'Third party, fire and theft' },
            { value: 'comprehensive', label: 'Comprehensive' },
          ],
        },
        {
          key: 'excess', label: 'Voluntary excess', type: 'select', number: true,
          options: [
            { value: 0, label: 'None' },
            { value: 250, label: '€250' },
            { value: 500, label: '€500' },
          ],
        },
        { key: 'startDate', label: 'Cover starts on', type: 'date' },
      ],
    },
    {
      id: 'confirm',
      title: 'Confirm',
      intro: 'Check your answers and tell us where to send the quote.',
      fields: [
        { key: 'email', label: 'E-mail for the quote', type: 'email', required: true, autocomplete: 'email' },
        { key: 'consent', label: 'You may contact me about this quote', type: 'checkbox' },
      ],
    },
  ],
};
