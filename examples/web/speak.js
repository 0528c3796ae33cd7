// examples/web/speak.js: stream speech from owt with EventSource, play each sentence as it arrives.
//
// Every decoded sentence is recorded in window.owtChunks ({index, duration, sampleRate,
// bytes}) and in the page (li[data-duration]); window.owtState is 'idle', 'streaming',
// 'done' or 'error'.
'use strict';

function utf8Base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function base64Bytes(b64) {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function makeRequest(code, text, speaker, sentenceTemplate, splitType) {
  return {
    'code_b64': utf8Base64(code),
    'kwargs_b64': utf8Base64(JSON.stringify({
      'text': text,
      'speaker': speaker,
      'sentence_template': sentenceTemplate,
      'split_type': splitType,
    })),
  };
}

function audioUrl(url, code, text, speaker, sentenceTemplate, splitType) {
  const request = makeRequest(code, text, speaker, sentenceTemplate, splitType);
  return url + '?' + new URLSearchParams(request).toString();
}

function getAudio(url, code, text, speaker, sentenceTemplate, splitType, onChunk, onDone, onError) {
  const source = new EventSource(
    audioUrl(url, code, text, speaker, sentenceTemplate, splitType));
  source.onmessage = function(event) {
    if (event.data === '[DONE]') {
      source.close();
      onDone();
      return;
    }
    onChunk(JSON.parse(event.data));
  };
  // Both an `event: error` frame from the adaptor (with data) and a failed connection.
  source.addEventListener('error', function(event) {
    source.close();
    onError(event.data || 'the connection to owt failed');
  });
  return source;
}

(function() {
  const $ = (id) => document.getElementById(id);
  const form = $('speak-form');
  const button = $('speak');
  const status = $('status');
  const list = $('chunks');
  const player = $('cumulative');
  const adaptor = $('adaptor').textContent;

  window.owtChunks = [];
  window.owtState = 'idle';
  $('adaptor-view').textContent = adaptor;
  if (!$('owt-url').value) $('owt-url').value = new URL('/speak.wav', window.location.href).href;

  let context = null;
  let playAt = 0;
  let decoding = Promise.resolve();

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = kind || '';
  }

  function audioContext() {
    if (!context) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      context = new Ctx();
    }
    if (context.state === 'suspended') context.resume();
    return context;
  }

  function play(buffer) {
    const ctx = audioContext();
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    playAt = Math.max(playAt, ctx.currentTime + 0.05);
    source.start(playAt);
    playAt += buffer.duration;
  }

  function addChunk(chunk) {
    const index = list.children.length;
    const bytes = base64Bytes(chunk.sentence);
    const li = document.createElement('li');
    li.textContent = 'Sentence ' + (index + 1) + ': decoding...';
    list.appendChild(li);
    // Decode in arrival order so sentences play in order.
    decoding = decoding.then(() => audioContext().decodeAudioData(bytes.buffer.slice(0)))
      .then((buffer) => {
        window.owtChunks.push({
          index: index, duration: buffer.duration, sampleRate: buffer.sampleRate, bytes: bytes.length,
        });
        li.dataset.duration = buffer.duration.toFixed(3);
        li.innerHTML = '';
        li.append('Sentence ' + (index + 1));
        const d = document.createElement('span');
        d.className = 'duration';
        d.textContent = buffer.duration.toFixed(2) + ' s';
        li.appendChild(d);
        play(buffer);
        setStatus('Playing: ' + window.owtChunks.length + ' sentence(s) received.');
      })
      .catch((err) => {
        li.textContent = 'Sentence ' + (index + 1) + ': could not decode (' + err + ')';
        li.dataset.error = String(err);
      });
    player.src = 'data:audio/wav;base64,' + chunk.cumulative;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    audioContext();
    playAt = 0;
    list.innerHTML = '';
    window.owtChunks = [];
    window.owtState = 'streaming';
    player.hidden = true;
    button.disabled = true;
    setStatus('Speaking...');
    getAudio($('owt-url').value, adaptor, $('text').value, $('speaker').value,
      $('template').value, $('split').value,
      addChunk,
      () => decoding.then(() => {
        window.owtState = 'done';
        button.disabled = false;
        player.hidden = false;
        setStatus('Done: ' + window.owtChunks.length + ' sentence(s), ' +
          window.owtChunks.reduce((t, c) => t + c.duration, 0).toFixed(2) + ' s of speech.', 'done');
      }),
      (message) => {
        window.owtState = 'error';
        button.disabled = false;
        setStatus('Error: ' + message, 'error');
      });
  });
})();
